-- Hand-written DuckDB SQL of the audit's exact checks (CONTRACT §6), the anchor of
-- benchmarks/bench_audit_duckdb.py. Run by benchmarks/anchors/duckdb_audit.py, which
-- replaces {data} (the audit folder), {start} and {end} (first days of the first and last
-- month), {due_days} (audit.payment_due_days_after_month), {tolerance}
-- (audit.amount_tolerance) and {review_months} (review.max_months_between_checks).
--
-- Covered: invalid_id, deceased_paid, duplicate_region, duplicate_program,
-- duplicate_payment, amount_mismatch, late_payment, missing_payment, paid_not_on_roster,
-- account_mismatch, staff_relative_unfiled, review_overdue, double_enrolment,
-- deceased_not_exited. Not covered (they need the rule engine or working-day calendars):
-- ineligible_recipient, amount_not_per_standard, exclusion_candidate, under_assisted,
-- alert_overdue, alert_forward_overdue. Input normalisation is limited to what CSV typing
-- gives; jiuzhu also normalises IDs, dates and amounts and lists rejected rows.

create table roster as select * from read_csv('{data}/roster.csv', all_varchar = true);
create table payments as select * from read_csv('{data}/payments.csv', all_varchar = true);
create table deaths as select * from read_csv('{data}/deaths.csv', all_varchar = true);
create table guardians as select * from read_csv('{data}/guardians.csv', all_varchar = true);
create table staff as select * from read_csv('{data}/staff_relatives.csv', all_varchar = true);

create table months as
  select cast(m as date) as month_start, cast(m + interval 1 month - interval 1 day as date)
         as month_end, strftime(m, '%Y-%m') as period
  from range(date '{start}', date '{end}' + interval 1 month, interval 1 month) t(m);

create table ros as
  select person_id, name, region_code, program,
         cast(start_date as date) as start_date,
         coalesce(try_cast(nullif(end_date, '') as date), date '9999-12-31') as end_date,
         cast(monthly_amount as double) as monthly_amount,
         try_cast(nullif(last_check_date, '') as date) as last_check_date
  from roster;

create table pay as
  select p.payment_id, p.person_id, p.account_holder_id, p.region_code, p.program, p.period,
         cast(p.amount as double) as amount, cast(p.paid_date as date) as paid_date,
         cast(p.period || '-01' as date) as month_start
  from payments p;

create table dead as
  select person_id, cast(death_date as date) as death_date from deaths;

-- the roster rows active in each month of the window
create table active as
  select r.*, m.period, m.month_start, m.month_end from ros r
  join months m on r.start_date <= m.month_end and r.end_date >= m.month_start;

create table findings (check_code varchar, person_id varchar, period varchar,
                       amount double);

-- invalid_id: format, birth date, GB 11643 check character
insert into findings
  select 'invalid_id', person_id, '', 0 from (
    select distinct person_id from (select person_id from ros union all
                                    select person_id from pay))
  where not regexp_full_match(person_id, '\d{{17}}[0-9X]')
     or try_strptime(substr(person_id, 7, 8), '%Y%m%d') is null
     or substr('10X98765432', cast(1 + list_sum(list_transform(range(17), lambda i:
          cast(substr(person_id, i + 1, 1) as integer)
          * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11 as bigint), 1)
        <> substr(person_id, 18, 1);

-- deceased_paid: paid for a month after the month of death
insert into findings
  select 'deceased_paid', p.person_id, p.period, p.amount from pay p
  join dead d using (person_id)
  where p.month_start > date_trunc('month', d.death_date);

-- duplicate_region: paid by two regions for the same month
insert into findings
  select 'duplicate_region', person_id, period, sum(amount) from pay
  group by person_id, period having count(distinct region_code) > 1;

-- duplicate_program: dibao and tekun for the same month
insert into findings
  select 'duplicate_program', person_id, period, sum(amount) from pay
  where program in ('dibao', 'tekun')
  group by person_id, period having count(distinct program) = 2;

-- duplicate_payment: twice for the same person, program and month
insert into findings
  select 'duplicate_payment', person_id, period, sum(amount) - min(amount) from pay
  group by person_id, program, period having count(*) > 1;

-- amount_mismatch: paid amount differs from the approved monthly amount
insert into findings
  select 'amount_mismatch', p.person_id, p.period, abs(p.amount - a.monthly_amount)
  from pay p join active a on a.person_id = p.person_id and a.program = p.program
                          and a.period = p.period
  where abs(p.amount - a.monthly_amount) > {tolerance};

-- late_payment: paid after the deadline for its month
insert into findings
  select 'late_payment', person_id, period, 0 from pay
  where paid_date > cast(month_start + interval 1 month - interval 1 day as date)
                    + {due_days};

-- missing_payment: active dibao/tekun, no payment for the month
insert into findings
  select 'missing_payment', a.person_id, a.period, a.monthly_amount from active a
  where a.program in ('dibao', 'tekun')
    and not exists (select 1 from pay p where p.person_id = a.person_id
                    and p.program = a.program and p.period = a.period);

-- paid_not_on_roster: no active approval for that month
insert into findings
  select 'paid_not_on_roster', p.person_id, p.period, p.amount from pay p
  where not exists (select 1 from active a where a.person_id = p.person_id
                    and a.period = p.period);

-- account_mismatch: holder is neither the beneficiary nor a registered guardian
insert into findings
  select 'account_mismatch', p.person_id, p.period, p.amount from pay p
  where p.account_holder_id <> p.person_id
    and not exists (select 1 from guardians g where g.person_id = p.person_id
                    and g.guardian_id = p.account_holder_id);

-- staff_relative_unfiled: a beneficiary who is an unfiled staff relative
insert into findings
  select distinct 'staff_relative_unfiled', s.relative_id, '', 0 from staff s
  where lower(coalesce(s.filed, '')) not in ('true', '1', '是')
    and exists (select 1 from active a where a.person_id = s.relative_id);

-- review_overdue: economic check older than the allowed interval at the audit end
insert into findings
  select distinct 'review_overdue', r.person_id, '', 0 from ros r
  where r.start_date <= (select max(month_end) from months)
    and r.end_date >= (select max(month_end) from months)
    and (r.last_check_date is null or r.last_check_date
         < (select max(month_end) from months) - interval {review_months} month);

-- double_enrolment: dibao and tekun, or two regions, in the same month
insert into findings
  select 'double_enrolment', person_id, period, 0 from active
  group by person_id, period
  having count(distinct program) filter (where program in ('dibao', 'tekun')) = 2
      or count(distinct region_code) > 1;

-- deceased_not_exited: still active after the month of death
insert into findings
  select distinct 'deceased_not_exited', a.person_id, a.period, 0 from active a
  join dead d using (person_id)
  where a.month_start > date_trunc('month', d.death_date);

copy (select check_code, count(*) as findings, round(sum(amount), 2) as amount
      from findings group by check_code order by check_code)
  to '{out}/reference_summary.csv' (header);
copy findings to '{out}/reference_findings.csv' (header);
