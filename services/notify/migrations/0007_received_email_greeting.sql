-- The default dossier_received e-mail greeted the citizen with the masked
-- name ("Kính gửi Ông/Bà N*** V*** A***,", or "Ông/Bà ," without one) and
-- began "đã tiếp nhận …" when the agency's name was missing. New
-- installations seed the corrected text (templates/default_templates.json);
-- one seeded before gets it as version 2, unless an administrator has
-- already changed the template (then the current text is theirs).
INSERT INTO notify.templates (event_type, channel, version, subject, body,
                              create_time)
SELECT t.event_type, t.channel, 2, t.subject,
       replace(replace(t.body,
           'Kính gửi Ông/Bà {{applicant_name}},', 'Kính gửi Ông/Bà,'),
           '{{#agency_name}}{{agency_name}} {{/agency_name}}đã tiếp nhận',
           '{{#agency_name}}{{agency_name}}{{/agency_name}}'
           || '{{^agency_name}}Bộ phận một cửa{{/agency_name}} đã tiếp nhận'),
       now()
  FROM notify.templates t
 WHERE t.event_type = 'dossier_received' AND t.channel = 'email'
   AND t.version = 1
   AND t.body LIKE '%Kính gửi Ông/Bà {{applicant_name}},%'
   AND NOT EXISTS (SELECT 1 FROM notify.templates n
                    WHERE n.event_type = t.event_type
                      AND n.channel = t.channel AND n.version > 1);
