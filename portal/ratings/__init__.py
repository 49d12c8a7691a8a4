"""好差评: the applicant rates a completed case; a bad rating opens a rectification (核实 → 整改 → 回访)."""
