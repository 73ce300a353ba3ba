-- Security: failed sign-ins remember the client address they came from (so one address cannot
-- lock someone out everywhere), and a user can be disabled (no sign-in, no token, no session).
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client_at ON login_failures (client, at);
ALTER TABLE users ADD COLUMN disabled_at TEXT;
