"""The audio drivers: the PortAudio stream that runs the compiled callback (stream.py), the choice of
audio device (devices.py), and the private JACK server of tests and ``run --jack-dummy`` (jackserver.py).

Import each module by its path: this package imports none of them for you, so that importing the JACK
server does not load the kernel, and its exit handler registers only where it is used.
"""
