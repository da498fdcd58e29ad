-- A 村干部's home page finds the cadre signed in by their account. Without an index that read
-- every cadre of the database (a county's thousands: 22 ms on PostgreSQL for each page). Never
-- edit a migration that has run; add a new one.
CREATE INDEX cadres_user ON cadres(user_id);
