-- An apology's transition keeps the appointment it replaced, so that the
-- apology slip printed again later (RenderForm) shows it.
ALTER TABLE intake.transitions ADD COLUMN previous_appointment timestamptz;
