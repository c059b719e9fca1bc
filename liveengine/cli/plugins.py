"""`liveengine plugins`: the installed LV2 plugins liveengine can host, and those it cannot, with why."""

from .options import block_size

DEFAULT_BLOCK = 256  # the show file's default block_size
PLUGIN_PACKAGES = "mda-lv2 x42-plugins dragonfly-reverb-lv2"  # Debian's, as the README and .ci/setup list them


def add_parser(commands):
    plugins = commands.add_parser("plugins",
                                  help="list the installed LV2 plugins liveengine can host, and why not the others")
    plugins.add_argument("--block", type=block_size, default=DEFAULT_BLOCK,
                         help=f"the block size to judge against, 32-1024 (default {DEFAULT_BLOCK}, the engine's)")
    plugins.set_defaults(handler=command_plugins)


def command_plugins(args) -> int:
    from ..instruments import lilv, lv2
    try:
        descriptions = lv2.discover()
    except lilv.LilvUnavailable as error:
        print(f"liveengine: {error}")
        return 1
    if not descriptions:
        print(f"No LV2 plugins are installed (liblilv looks in LV2_PATH, or ~/.lv2 and /usr/lib/lv2); "
              f"on Debian: sudo apt install {PLUGIN_PACKAGES}")
        return 0
    hostable, refused = [], []
    for description in descriptions:
        reasons = lv2.refusal(description, args.block)
        (refused if reasons else hostable).append((description, reasons))
    hostable.sort(key=lambda item: (not item[0].is_instrument, item[0].uri))
    print(f"LV2 plugins liveengine can host with blocks of {args.block} frames ({len(hostable)}):")
    for description, _ in hostable:
        presets = ", ".join(preset.label for preset in description.presets)
        print(f"  {description.kind:<10}  <{description.uri}>  {description.name} [{description.class_label}]"
              + (f"; presets: {presets}" if presets else ""))
    print(f"\nLV2 plugins liveengine cannot host ({len(refused)}):")
    for description, reasons in refused:
        print(f"  <{description.uri}>  {description.name}: " + "; ".join(reasons))
    return 0
