"""The nbval sanitize file must load every rule the way nbval reads it."""
import re
from pathlib import Path

from nbval.plugin import get_sanitize_patterns

CFG = Path(__file__).with_name("nbval_sanitize.cfg")


def test_every_rule_loads():
    text = CFG.read_text()
    pairs = get_sanitize_patterns(text)
    n_regex = len(re.findall(r"^regex:", text, flags=re.M))
    assert n_regex > 0
    # nbval silently drops a rule whose replace: line is empty or missing
    assert len(pairs) == n_regex, f"{n_regex - len(pairs)} sanitize rule(s) would be dropped by nbval"
    for regex, replace in pairs:
        re.compile(regex)
        assert replace.strip(), f"empty replacement for {regex!r}"


def test_rules_do_not_blur_claimed_numbers():
    pairs = get_sanitize_patterns(CFG.read_text())

    def sanitize(s):
        for regex, replace in pairs:
            s = re.sub(regex, replace, s)
        return s

    claim = "random-pair cosine 0.812 > 0.5 after 120 steps; Spearman rho = -0.73"
    assert sanitize(claim) == claim
    assert sanitize("<Figure size 640x480 with 2 Axes>") == "<Figure with 2 Axes>"
    assert "0xADDRESS" in sanitize("<object at 0x7f3a2b4c5d60>")
    assert sanitize("trained (took 12.3 s)") == "trained (took TIME)"
