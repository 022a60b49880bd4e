def handler(event, context):  # returns its input
    return event
