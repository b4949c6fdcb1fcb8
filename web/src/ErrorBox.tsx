import type { ApiError } from './errors.ts';

/** An API error as the page shows it: the stable code, the message and the request id. */
export function ErrorBox({ error, testId = 'error', requestIdLabel = 'Request id' }: { error: ApiError; testId?: string; requestIdLabel?: string }) {
  return (
    <div className="alert alert--error" role="alert" data-testid={testId} data-app-code={error.appCode}>
      <p className="alert__title"><code className="app-code">{error.appCode}</code></p>
      <p>{error.message}</p>
      {error.requestId && <p className="alert__meta">{requestIdLabel}: <code>{error.requestId}</code></p>}
    </div>
  );
}
