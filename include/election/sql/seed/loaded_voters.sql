-- The voters table as the voters suite sees it: ids as text (the suite checks their format) and the derived
-- age on election day (the election's date is the registry's).
SELECT v.voter_id::text AS voter_id, v.voter_name, v.date_of_birth, v.gender, v.nationality,
       v.registration_number, v.address_street, v.address_city, v.address_state, v.address_country,
       v.address_postcode, v.email, v.phone_number, v.cell_number, v.picture, v.registered_age,
       date_part('year', age(r.election_date, v.date_of_birth))::int AS age_on_election_day
FROM voters v CROSS JOIN election_registry r
