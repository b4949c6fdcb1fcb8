// Temporal histories to and from the JSON format of Temporal's tools (`temporal workflow show
// --output json`, the Web UI's download), as @temporalio/common's historyToJSON/historyFromJSON do.
// Those two fail here ("type must be a Type"): npm gives @temporalio/common and @temporalio/proto
// each its own copy of protobufjs 8 (another dependency keeps protobufjs 7 at the top), and the
// JSON codec checks `instanceof` against its own copy. Loading the codec from the copy that
// @temporalio/proto's types were built with keeps the same format and works.

import { createRequire } from 'node:module';
import type * as protoTypes from '@temporalio/proto';

type History = protoTypes.temporal.api.history.v1.IHistory;

const require = createRequire(import.meta.url);
// The CommonJS root itself (an ESM namespace around it has no reflection).
const proto = require('@temporalio/proto') as typeof protoTypes;
const requireFromProto = createRequire(require.resolve('@temporalio/proto'));
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): unknown };
const protojson = requireFromProto('protobufjs/ext/protojson') as {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  // Unknown fields come from newer servers; they do not change what the workflow replays.
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
