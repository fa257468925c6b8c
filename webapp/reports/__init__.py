"""Moderation reports over realty listings (seed 004): daily/range figures, bot commands, morning push."""
