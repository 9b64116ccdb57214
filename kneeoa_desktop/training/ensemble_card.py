"""The model card's sections for an ensemble: its members, how they combine, how to rebuild them.

Each member's training record comes from the release spec (``ensemble_release``): a recipe line,
its seed, where it was trained, its epochs, and its own val figures when they were measured.
"""

from __future__ import annotations

from ..core.model.manifest import ModelManifest


def members_section(manifest: ModelManifest) -> list[str]:
    """The "Members" section: a table of the networks and the rule that combines them."""
    records = {r["name"]: r for r in manifest.training.get("members", [])}
    lines = [
        "## Members",
        "",
        f"An ensemble of {len(manifest.member_list)} networks. Each grades the same preprocessed input"
        + (" and its mirror image (the two passes averaged)" if manifest.test_time_flip else "")
        + "; the verdict is the geometric mean of their probabilities (the mean of their logarithms, "
        f"renormalised), then one temperature, T = {manifest.ensemble_temperature:.3f}, fitted on val "
        "for the combined verdict. The grade shown is the most probable one (argmax): the ordinal "
        "rules (median grade, thresholds on the expected grade) were measured on val and gave kappa "
        "only by losing accuracy (`weights/LEDGER.md`). The evidence map averages the members' maps, "
        "each scaled to its own peak; the scope check reads the first member's pooled features.",
        "",
        "| member | file | MB | how it was trained | seed | where | val acc / κ / MAE (alone) |",
        "|---|---|---|---|---|---|---|",
    ]
    for member in manifest.member_list:
        record = records.get(member.name, {})
        path = manifest.directory / member.file
        size = f"{path.stat().st_size / 1e6:.1f}" if path.is_file() else "?"
        alone = record.get("val")
        figures = (f"{alone['accuracy']:.3f} / {alone['quadratic_weighted_kappa']:.3f} / {alone['mae']:.3f}"
                   if alone else "–")
        lines.append(f"| {member.name} {member.version} | `{member.file}` (sha256 `{member.sha256[:12]}…`) | "
                     f"{size} | {record.get('recipe', '–')} | {record.get('seed', '–')} | "
                     f"{record.get('trained_on', '–')} | {figures} |")
    total = manifest.total_bytes / 1e6
    lines += ["", f"Model files together: {total:.1f} MB. Every candidate member, shipped or not, with its "
              "recipe and figures: `weights/LEDGER.md`."]
    return lines


def reproduce_lines(manifest: ModelManifest) -> list[str]:
    """Shell lines that rebuild each member and then the release."""
    lines = []
    for record in manifest.training.get("members", []):
        lines.append(f"# {record['name']} {record['version']}")
        lines.append(record.get("command", "# (no command recorded)"))
    lines += ["# the ensemble: members → weights/, temperature, figures, this card",
              f"python scripts/release_ensemble.py {manifest.training.get('spec', 'SPEC.json')} --out weights"]
    return lines
