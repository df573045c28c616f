// Runs the graphql-http GraphQL-over-HTTP server audits against a running server.
// Usage: node run-audits.mjs http://127.0.0.1:PORT/graphql
// Prints one JSON array of {id, name, status, reason} to stdout; exits non-zero only on bad usage.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node run-audits.mjs <graphql url>');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: globalThis.fetch })) {
  try {
    const result = await audit.fn();
    results.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === 'ok' ? null : result.reason,
    });
  } catch (error) {
    // A thrown audit is fatal for that audit (e.g. the server could not be reached).
    results.push({ id: audit.id, name: audit.name, status: 'error', reason: `audit threw: ${error}` });
  }
}
process.stdout.write(JSON.stringify(results) + '\n');
