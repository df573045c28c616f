// PostGraphile 5 for bench.graphql_peer: production settings (no GraphiQL, no watch, no explain, no
// subscriptions), the benchmark's database with the same PostgreSQL role as `croupier serve`, a pool as
// large as ours, and only the two tables the benchmark reads, read-only. bench/graphql_peer.py sets the
// environment (PEER_DATABASE_URL, PEER_PORT, PEER_POOL_SIZE) and starts PostGraphile's own CLI on the
// Node 22 of node_modules: `node_modules/.bin/node node_modules/postgraphile/dist/cli-run.js -C
// graphile.config.mjs` (the CLI's `#!/usr/bin/env node` would pick the system's Node 20).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const TABLES = new Set(["brands", "games"]);

/** Every other table of the schema hidden (its lookups, lists and relations too: they read the table's
 * behavior), as a `@behavior -*` smart comment on it would; the two tables read only. */
const OnlyTheBenchmarkTables = {
  name: "CroupierBenchOnlyTheseTables",
  version: "0.0.0",
  gather: {
    hooks: {
      pgTables_PgResourceOptions(info, event) {
        const extensions = (event.resourceOptions.extensions ??= {});
        const tags = (extensions.tags ??= {});
        tags.behavior = TABLES.has(event.pgClass.relname) ? ["-insert", "-update", "-delete"] : ["-*"];
      },
    },
  },
};

const environment = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (bench/graphql_peer.py sets it)`);
  return value;
};

/** @type {GraphileConfig.Preset} */
export default {
  extends: [PostGraphileAmberPreset],
  plugins: [OnlyTheBenchmarkTables],
  pgServices: [
    makePgService({
      connectionString: environment("PEER_DATABASE_URL"),
      schemas: ["public"],
      poolConfig: { max: Number(environment("PEER_POOL_SIZE")) },
      pubsub: false,
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(environment("PEER_PORT")),
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};
