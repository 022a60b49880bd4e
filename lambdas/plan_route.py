"""PlanRoute: the distance and ETA of a trip, car to pickup to dropoff.

In:  {car_id, start {lat, lon}, pickup {lat, lon}, dropoff {lat, lon}}
Out: {pickup_km, trip_km, distance_km, eta_min}
TransientRoutingError (a routing service's hiccup) is retried by the dispatch workflow.
"""


from fleet_domain.models.ride import RouteRequest
from fleet_domain.platform.observability import lambda_handler, logger
from fleet_domain.rules.dispatch import route_for


@lambda_handler()
def handler(event, context):
    request = RouteRequest.model_validate(event)
    route = route_for(request)
    logger.info("route planned", car_id=request.car_id, distance_km=route.distance_km, eta_min=route.eta_min)
    return route.model_dump(mode="json")
