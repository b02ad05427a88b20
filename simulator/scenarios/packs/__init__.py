"""Scenario packs shipped as package data: one TOML file per scenario (see ``simulator.scenarios``)."""
