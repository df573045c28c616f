"""The platform's own words in player-facing emails and messages, marked for the catalogues: message
templates (services/crm/channels) write `{{ _("Unsubscribe") }}` or `{% trans %}…{% endtrans %}` and get them in
the player's language through `services.crm.i18n.jinja_environment`."""

from __future__ import annotations

from services.crm.i18n import N_

TEMPLATE_TEXTS = (
    N_("Unsubscribe"),
    N_("Unsubscribe from these messages"),
    N_("View this message in your browser"),
    N_("You receive this message because you agreed to hear from us."),
    N_("Play responsibly."),
    N_("Terms and conditions apply."),
    N_("Claim your bonus"),
    N_("Play now"),
    N_("Deposit now"),
    N_("Hello"),
)
