"""Who may see and do what: tokens, passwords, the Casbin policy and the field-permission check."""
