"""state:loadDefaultState: a plugin that offers it is given its default state at instantiation.

No Debian plugin states a default state, so this test copies Debian's zeroconvolv bundle (its binary
linked, its description copied) and adds one: the impulse response its "No-OP" preset loads. The
plugin, described so, loads it through the worker as soon as it is instantiated. A process of its
own: LV2_PATH is read when the process's LV2 world is loaded."""

import json
import os
import subprocess
import sys
from pathlib import Path

from lv2plugins import ZEROCONVOLV_MONO, require

ZEROCONVOLV_BUNDLE = Path("/usr/lib/lv2/zeroconvo.lv2")
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from lv2plugins import ZEROCONVOLV_MONO, WorkRecorder
from liveengine.engine.plugins import PluginHost
from liveengine.instruments import lv2
host, worker = PluginHost.shared(), WorkRecorder()
plugin = host.instantiate(ZEROCONVOLV_MONO, 48000, 256, schedule=worker.schedule)
requests = len(worker.requests)
worker.work_all(plugin)
print(json.dumps({"optional": lv2.describe(ZEROCONVOLV_MONO).optional_features, "requests": requests,
                  "latency": plugin.latency()}))
plugin.close()
"""


def test_a_plugin_with_a_default_state_is_restored_to_it_at_instantiation(tmp_path):
    require(ZEROCONVOLV_MONO)
    bundle = tmp_path / "zeroconvo-default.lv2"
    bundle.mkdir()
    for name in ("manifest.ttl", "presets.ttl", "zeroconvolv.so", "ir"):
        (bundle / name).symlink_to(ZEROCONVOLV_BUNDLE / name)
    description = (ZEROCONVOLV_BUNDLE / "zeroconvolv.ttl").read_text()
    mono = "conv:Mono\n\ta lv2:Plugin, lv2:ReverbPlugin;"
    assert mono in description
    (bundle / "zeroconvolv.ttl").write_text(description.replace(mono, mono + (
        "\n\tlv2:optionalFeature state:loadDefaultState;"
        "\n\tstate:state [ conv:ir <ir/delta-48k.wav> ];")))
    tests = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", PROBE, str(tests)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "LV2_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.splitlines()[-1])
    assert "http://lv2plug.in/ns/ext/state#loadDefaultState" in probe["optional"]
    assert probe["requests"] == 1  # the default state's impulse response, loaded in the worker
    assert probe["latency"] == 64  # the convolver runs: without an impulse response it reports none
