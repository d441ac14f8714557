-- The voters of the election being loaded, as the voters suite sees them: ids as text (the suite checks their
-- format), the derived age on the election's day and the voter's own avatar URL (`election.avatars`).
SELECT v.voter_id::text AS voter_id, v.voter_name, v.date_of_birth, v.gender, v.nationality,
       v.registration_number, v.address_state, v.address_street, v.address_city, v.address_country,
       v.address_postcode, v.email, v.phone_number, v.cell_number, v.picture, v.registered_age,
       date_part('year', age(e.election_date, v.date_of_birth))::int AS age_on_election_day,
       'avatars/voters/' || v.voter_id::text || '.svg' AS own_picture
FROM voters v JOIN elections e USING (election_id)
WHERE v.election_id = current_setting('election.loading')::bigint
