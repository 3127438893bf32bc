-- Indexes beyond SER's schema for msilo: m_dump reads a user's stored
-- messages on every REGISTER (WHERE username = ? AND domain = ?) and the
-- timer deletes the expired ones (WHERE exp_time <= now); SER's silo had
-- only its primary key, so both were full scans of the table.

CREATE INDEX silo_user ON silo (username, domain);
CREATE INDEX silo_exp_time ON silo (exp_time);
