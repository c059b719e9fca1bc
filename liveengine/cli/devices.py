"""`liveengine devices`: the audio devices PortAudio sees."""


def add_parser(commands):
    devices = commands.add_parser("devices", help="list audio devices")
    devices.set_defaults(handler=command_devices)


def command_devices(args) -> int:
    from ..drivers.devices import describe_devices
    print("Audio devices:")
    print(describe_devices())
    return 0
