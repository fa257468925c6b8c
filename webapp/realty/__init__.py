"""Realty vertical (seed 001): agencies, listings, calendar, bookings, reviews, notifications."""
