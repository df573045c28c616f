// A player's frontend as it would subscribe: the npm `graphql-ws` client (the back office's own copy in
// admin/node_modules), authenticated in connection_init. Prints each `next` payload as one JSON line and
// exits after `count` of them. Usage: node --experimental-websocket leaderboard-client.mjs URL TOKEN ID COUNT
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../admin/package.json"));
const { createClient } = require("graphql-ws");

const [url, token, tournamentId, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: globalThis.WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const query = `subscription($id: ID!) { leaderboardChanged(tournamentId: $id, first: 3) {
  version entrants top { rank score alias isViewer } me { rank score isViewer } } }`;
let seen = 0;
const subscription = client.iterate({ query, variables: { id: tournamentId } });
for await (const result of subscription) {
  process.stdout.write(JSON.stringify(result) + "\n");
  seen += 1;
  if (seen >= Number(count)) break;
}
await client.dispose();
