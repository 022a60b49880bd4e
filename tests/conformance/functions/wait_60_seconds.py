from tests.conformance import functions


def handler(event, context):  # runs for a minute (on the local cloud's clock), then returns its input
    functions.clock.sleep(60)
    return event
