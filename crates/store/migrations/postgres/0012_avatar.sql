-- The picture customers see beside an agent's messages: kefu's own media URL (/media/<id>),
-- uploaded by the agent or an admin; NULL for the default initial.
ALTER TABLE agents ADD COLUMN avatar TEXT;
