"""Back-office fixtures: the ones of the domains whose screens tests/backoffice measures (games, rounds
played through the Hub88 wallet, bonus campaigns, the reports' projections)."""

from tests.aml.conftest import screening  # noqa: F401  (fixture: the screening consumer, drained on demand)
from tests.aml_monitoring.conftest import deposit, monitoring  # noqa: F401  (fixtures: AML alerts from deposits)
from tests.bonuses.conftest import campaign  # noqa: F401  (fixtures)
from tests.cashier.conftest import psp  # noqa: F401  (fixture: the demo PSP, for deposits)
from tests.games.conftest import make_game, provider  # noqa: F401  (fixtures)
from tests.providers.conftest import aggregator, aggregator_key, hub88_provider, seat  # noqa: F401  (fixtures)
from tests.reports.conftest import reports  # noqa: F401  (fixture: the reports consumer, drained on demand)
from tests.risk.conftest import signals  # noqa: F401  (fixture: the risk-signals consumer, drained on demand)
