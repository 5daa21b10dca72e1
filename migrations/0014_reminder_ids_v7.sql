-- Reminders copied in SQL (to the next occurrence of a series, or to the later open occurrences) got random
-- version 4 ids; every other id the server gives is a time-ordered version 7 (README "Tasks"). uuid_v7() makes
-- one as the server does (RFC 9562): the Unix time in milliseconds in the first 48 bits, version 7, the RFC
-- 9562 variant, and random bits from a version 4 UUID for the rest.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                                          FROM 3)
                                        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
