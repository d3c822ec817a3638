ALTER TABLE `sessions` ADD `session_version` integer;
