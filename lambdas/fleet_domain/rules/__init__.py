"""The domain's rules: pure functions over the models (which cars may take a ride, which checks a
car needs, which status changes are legal). No AWS here: the pure functions import only this
layer and the models."""
