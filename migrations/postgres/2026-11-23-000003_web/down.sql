DROP TABLE settings;
DROP TABLE login_failures;
DROP TABLE web_sessions;
DROP TABLE credentials;
