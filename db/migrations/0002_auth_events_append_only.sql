-- auth_events is an append-only audit log: rows are added, never changed or removed.
CREATE TRIGGER `auth_events_no_update` BEFORE UPDATE ON `auth_events`
BEGIN
	SELECT RAISE(ABORT, 'auth_events is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `auth_events_no_delete` BEFORE DELETE ON `auth_events`
BEGIN
	SELECT RAISE(ABORT, 'auth_events is append-only');
END;
