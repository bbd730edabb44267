"""docs/settings.md is what settings/base.py says: every setting documented, the page in step with the code."""

from __future__ import annotations

from settings import base
from settings.reference import read_settings, render, undocumented
from tests.helpers import ROOT


def test_every_setting_has_its_comment():
    assert undocumented(read_settings()) == []


def test_the_reference_lists_every_setting_of_base():
    listed = {setting.name for group in read_settings() for setting in group.settings}
    assert listed == {name for name in vars(base) if name.isupper()}


def test_the_settings_page_is_in_step_with_the_code():
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == render(read_settings()), "docs/settings.md is stale: run `make docs`"
