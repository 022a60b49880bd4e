"""When a car is due for service: the thresholds a finished trip (rules/dispatch.py) and a
maintenance's checks (rules/maintenance.py) both read. Apart from both so that the maintenance
steps do not import the dispatch rules and the ride models with them (cold start)."""

#: A car is due for maintenance under this charge ...
MAINTENANCE_BATTERY_PCT = 20.0
#: ... or after this many km since its last service.
SERVICE_INTERVAL_KM = 10_000
