// CI warm-up: build the Go binaries up front so the multi-minute compile shows up as its own
// step instead of as a mysteriously slow first test.
import { installBinaries } from './index.ts';

const bins = await installBinaries();
console.log(`[stack] temporal: ${bins.temporal}`);
console.log(`[stack] stripe-mock: ${bins.stripeMock}`);
