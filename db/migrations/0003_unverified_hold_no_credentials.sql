-- An unverified account holds no name and no password: those chosen at signup wait beside the signup
-- until the address is proven (lib/registrations.ts). Rows from before that rule lose theirs here.
UPDATE `users` SET `password_hash` = '', `name` = '' WHERE `email_verified_at` IS NULL;
