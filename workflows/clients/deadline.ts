// How long a request that waits on Temporal may wait: then it answers 503 and the caller retries
// with the same key. Not workflow code (never bundled).

/** A shopper's, finance's or support's request waits at most this long for Temporal. */
export const TEMPORAL_DEADLINE_MS = 8_000;
