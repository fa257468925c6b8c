"""Clinic vertical (seed 002): patients, booking, reminders, documents, payments, feedback, support."""
