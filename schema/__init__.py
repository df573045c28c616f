"""GraphQL types per domain; `schema.root` composes Query, Mutation, Subscription and the limits."""
