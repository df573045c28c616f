"""Game providers and their catalog, managed without SQL: the commands the GraphQL mutations, the
back office and `croupier providers` all call.

Providers are platform-wide (every brand plays the same provider through the same wallet), so every
change here is audited with no brand, by staff holding a platform-wide role (`content_manager`) or by
the platform itself (the CLI). Read the modules in this order:

- `credentials`: what a provider signs with. An RSA public key (Hub88) is checked (PEM, RSA, at least
  2048 bits) and stored in a canonical form; the audit log and every answer carry its SHA-256
  fingerprint, never the key. An HMAC secret (SoftSwiss-style) stays in settings (`PROVIDER_SECRETS`):
  the database holds only the *name* of its entry, which must resolve on this server.
- `registry`: add a provider, change its name or launch URL, set or rotate its key or secret
  reference, switch it on or off; list providers.
- `catalog`: a provider's games: create, change, switch on or off; list them.
- `imports`: a provider's game list in Hub88's `/game/list` shape, upserted by (provider, game code)
  in one transaction, or compared only (dry run): added, changed (old → new), unchanged, missing.
"""
