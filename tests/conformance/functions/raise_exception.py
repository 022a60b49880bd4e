def handler(event, context):  # fails with a plain Exception and the message the recordings show
    raise Exception("Some exception was raised.")
