"""The show file's [web] table and [[hits]]: read as written, and every mistake said by name."""

import pytest

from liveengine.show.reader import ShowFileError, load_show
from webshow import web_show


def read(tmp_path, text):
    path = tmp_path / "show.toml"
    path.write_text(text)
    return load_show(path)


def test_web_and_hits_are_read(tmp_path):
    show = read(tmp_path, web_show(8123))
    assert show.web.enabled and show.web.port == 8123 and show.web.bind == ("127.0.0.1",)
    punch, flutter = show.hits
    assert (punch.kind, punch.cue, punch.bar, punch.beat, punch.color) == ("punch", "1M1", 3, 1, "red")
    assert (flutter.kind, str(flutter.timecode), flutter.punches) == ("flutter", "01:05:00:00", 3)


@pytest.mark.parametrize("extra, said", [
    ('[[hits]]\ncue = "1M2"\nat = "1.1"', "cue 1M2 starts no click track"),
    ('[[hits]]\ncue = "1M1"\nat = "999.1"', "has no bar 999 beat 1"),
    ('[[hits]]\nat = "3.1"', "expected either timecode"),
    ('[[hits]]\ntimecode = "01:00:01:00"\nkind = "flash"', "kind"),
    ('[[hits]]\ntimecode = "01:00:01:00"\nkind = "flutter"\npunches = 4', "punches"),
    ('[[hits]]\ntimecode = "01:00:01:00"\ncolor = "mauve"', "colour"),
])
def test_a_wrong_hit_is_said_by_name(tmp_path, extra, said):
    with pytest.raises(ShowFileError, match=said):
        read(tmp_path, web_show(8123) + extra)


def test_a_short_token_is_refused(tmp_path):
    with pytest.raises(ShowFileError, match="token"):
        read(tmp_path, web_show(8123, token="short"))
