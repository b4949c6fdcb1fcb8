// CI warm-up for the cluster: builds Temporal Server and its sql tool (pinned, `go install`) up
// front, so the compile is its own step and not a timeout in the chaos test's setup.
import { temporalServerBinaries } from './temporal-server.ts';

const bins = await temporalServerBinaries((line) => console.log(`[cluster] ${line}`));
console.log(`[cluster] temporal server: ${bins.server}`);
console.log(`[cluster] temporal-sql-tool: ${bins.sqlTool}`);
