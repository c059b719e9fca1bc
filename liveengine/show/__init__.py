"""The show: what a show file asks the engine to be and to play."""
