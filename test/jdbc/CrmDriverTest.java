/*
 * test/jdbc/CrmDriverTest.java: crm from pgjdbc as an application uses it.
 *
 * A default connection (no stringtype=unspecified): setString binds
 * varchar, so crm.pesel, crm.nip and crm.regon must take varchar
 * parameters on INSERT, UPDATE and in WHERE; setDouble binds float8 for
 * the scores.  Run by test/jdbc.sh (tools/dev.sh test), which prepares the
 * database, an application role that is not a superuser (crm_admin) and a
 * supervisor of one unit (crm_supervisor), through which crm's refusals
 * (42501 with the server's DETAIL and HINT) and row-level security by
 * structure are checked:
 *
 *   CRM_JDBC_PASSWORD=... CRM_JDBC_SUP_PASSWORD=... \
 *       java -cp /usr/share/java/postgresql.jar \
 *       test/jdbc/CrmDriverTest.java URL USER [SUPERVISOR]
 *
 * Prints one line per check and a summary; exits 1 on any failure.
 */
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

public class CrmDriverTest {
    interface Check {
        void run() throws Exception;
    }

    static int passed = 0;
    static final List<String> failures = new ArrayList<>();

    static void check(String name, Check c) {
        try {
            c.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable e) {
            failures.add(name + ": " + e);
            System.out.println("FAIL " + name + ": " + e);
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok)
            throw new AssertionError(what);
    }

    static void expectEquals(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual))
            throw new AssertionError(what + ": expected <" + expected + ">, got <" + actual + ">");
    }

    static Connection conn;

    /* the single row and column a query returns, as a string */
    static String one(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            expect(rs.next(), "no row");
            String v = rs.getString(1);
            expect(!rs.next(), "more than one row");
            return v;
        }
    }

    static long insertPerson(String first, String last, String pesel) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "INSERT INTO crm.client (kind, first_name, last_name, city, pesel) "
                + "VALUES ('person', ?, ?, 'Kraków', ?) RETURNING id")) {
            ps.setString(1, first);
            ps.setString(2, last);
            ps.setString(3, pesel);
            return Long.parseLong(one(ps));
        }
    }

    /* the ids a query returns, sorted */
    static TreeSet<Long> ids(Connection c, String sql) throws SQLException {
        TreeSet<Long> r = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next())
                r.add(rs.getLong(1));
        }
        return r;
    }

    /* the refusal of crm.merge_client(source, target) with setLong parameters */
    static PSQLException mergeRefusal(Connection c, long source, long target) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT crm.merge_client(?, ?)")) {
            ps.setLong(1, source);
            ps.setLong(2, target);
            ps.executeQuery().close();
        } catch (PSQLException e) {
            return e;
        }
        throw new AssertionError("crm.merge_client(" + source + ", " + target + ") was not refused");
    }

    static Properties login(String user, String passwordVariable) {
        Properties props = new Properties();
        props.setProperty("user", user);
        // from the environment, not the command line, where ps would show it
        if (System.getenv(passwordVariable) != null)
            props.setProperty("password", System.getenv(passwordVariable));
        // server-side prepared statements from the first execution, so that the
        // parameter types are the ones the driver declares (varchar, float8, int8)
        props.setProperty("prepareThreshold", "1");
        return props;
    }

    public static void main(String[] args) throws Exception {
        String url = args.length > 0 ? args[0] : "jdbc:postgresql://127.0.0.1:5432/crm_jdbc";
        Properties props = login(args.length > 1 ? args[1] : "crm_jdbc_app", "CRM_JDBC_PASSWORD");
        String supervisor = args.length > 2 ? args[2] : "crm_jdbc_sup";
        conn = DriverManager.getConnection(url, props);
        System.out.println("connected: " + conn.getMetaData().getDatabaseProductVersion()
                + ", pgjdbc " + conn.getMetaData().getDriverVersion()
                + ", stringtype " + (props.getProperty("stringtype") == null ? "default (varchar)" : props.getProperty("stringtype")));
        try (PreparedStatement ps = conn.prepareStatement("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            expect(!rs.getBoolean(2), "the test must run as a role that is not a superuser");
            System.out.println("role: " + rs.getString(1) + " (not a superuser)");
        }

        long[] jan = new long[1];
        long[] firm = new long[1];

        check("INSERT: setString into crm.pesel", () -> {
            jan[0] = insertPerson("Jan", "Kowalski", "440514-01359");
            try (PreparedStatement ps = conn.prepareStatement("SELECT pesel FROM crm.client WHERE id = ?")) {
                ps.setLong(1, jan[0]);
                expectEquals("44051401359", one(ps), "stored PESEL");
            }
        });

        check("INSERT: setString into crm.nip and crm.regon", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO crm.client (kind, company_name, city, nip, regon) "
                    + "VALUES ('company', ?, 'Kraków', ?, ?) RETURNING id, nip, regon")) {
                ps.setString(1, "Agro-Pol");
                ps.setString(2, "PL 526-000-12-46");
                ps.setString(3, "123456785");
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "no row");
                    firm[0] = rs.getLong(1);
                    expectEquals("5260001246", rs.getString(2), "stored NIP");
                    expectEquals("123456785", rs.getString(3), "stored REGON");
                }
            }
        });

        check("UPDATE: setString for pesel, nip and regon", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "UPDATE crm.client SET nip = ?, regon = ? WHERE id = ?")) {
                ps.setString(1, "777-000-28-95");
                ps.setString(2, "12345678512347");
                ps.setLong(3, firm[0]);
                expectEquals(1, ps.executeUpdate(), "rows updated");
            }
            try (PreparedStatement ps = conn.prepareStatement("UPDATE crm.client SET pesel = ? WHERE id = ?")) {
                ps.setString(1, "44051401359");
                ps.setLong(2, jan[0]);
                expectEquals(1, ps.executeUpdate(), "rows updated");
            }
        });

        check("WHERE: setString compared with pesel, nip and regon, either side", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT id FROM crm.client WHERE pesel = ?")) {
                ps.setString(1, "4405 1401 359");
                expectEquals(Long.toString(jan[0]), one(ps), "client by PESEL");
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id FROM crm.client WHERE ? = nip AND regon = ? AND regon IN (?, ?)")) {
                ps.setString(1, "7770002895");
                ps.setString(2, "12345678512347");
                ps.setString(3, "123456785");
                ps.setString(4, "12345678512347");
                expectEquals(Long.toString(firm[0]), one(ps), "company by NIP and REGON");
            }
        });

        check("setNull(Types.VARCHAR) into an identifier column", () -> {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE crm.client SET regon = ? WHERE id = ? RETURNING regon")) {
                ps.setNull(1, Types.VARCHAR);
                ps.setLong(2, firm[0]);
                expectEquals(null, one(ps), "REGON after setNull");
            }
        });

        check("a bad PESEL: SQLSTATE 22P02 with the server's DETAIL and HINT", () -> {
            try (PreparedStatement ps = conn.prepareStatement("UPDATE crm.client SET pesel = ? WHERE id = ?")) {
                ps.setString(1, "44051401358");
                ps.setLong(2, jan[0]);
                ps.executeUpdate();
                throw new AssertionError("the bad PESEL was accepted");
            } catch (PSQLException e) {
                ServerErrorMessage m = e.getServerErrorMessage();
                expect(m != null, "no server error message");
                expectEquals("22P02", e.getSQLState(), "SQLSTATE");
                expectEquals("invalid input syntax for type pesel: \"44051401358\"", m.getMessage(), "message");
                expectEquals("The check digit is 8, but the checksum of the other digits requires 9.", m.getDetail(), "DETAIL");
                expectEquals("Check the digits against the source document: one of them is mistyped.", m.getHint(), "HINT");
            }
        });

        check("duplicate_candidates(?, ?) with setLong + setDouble; score by getDouble", () -> {
            long twin = insertPerson("Jan", "Kowalski", "44051401359");
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT candidate_id, score, reasons FROM crm.duplicate_candidates(?, ?)")) {
                ps.setLong(1, twin);
                ps.setDouble(2, 0.5);
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "no candidate");
                    expectEquals(jan[0], rs.getLong(1), "candidate");
                    expectEquals(Types.DOUBLE, rs.getMetaData().getColumnType(2), "JDBC type of score");
                    double score = rs.getDouble(2);
                    expect(score > 0.99 && score <= 1.0, "score " + score + " of a pair with the same PESEL and name");
                    String reasons = rs.getString(3);
                    expect(reasons.contains("same PESEL"), "reasons " + reasons);
                    expect(!rs.next(), "a second candidate");
                }
                // a threshold above the score leaves nothing
                ps.setDouble(2, 1.0);
                try (ResultSet rs = ps.executeQuery()) {
                    expect(!rs.next(), "a candidate at min_score 1.0");
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT crm.default_min_score()")) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    expectEquals(0.5, rs.getDouble(1), "default_min_score");
                }
            }
        });

        check("crm.merge_client(?, ?) through a prepared statement", () -> {
            long twin;
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id FROM crm.client WHERE pesel = ? AND id <> ?")) {
                ps.setString(1, "44051401359");
                ps.setLong(2, jan[0]);
                twin = Long.parseLong(one(ps));
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT crm.merge_client(?, ?)")) {
                ps.setLong(1, twin);
                ps.setLong(2, jan[0]);
                long mergeId = Long.parseLong(one(ps));  // the merge's id in crm.merge_log
                expect(mergeId > 0, "merge id " + mergeId);
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM crm.client WHERE pesel = ?")) {
                ps.setString(1, "44051401359");
                expectEquals("1", one(ps), "clients with the PESEL after the merge");
            }
        });

        /*
         * a supervisor of Kraków (unit 2 and the department below it), on a
         * connection of its own: crm's refusals as the driver reports them,
         * and row-level security by structure
         */
        TreeSet<Long> krakow = ids(conn, "SELECT id FROM crm.client WHERE unit_id IN (2, 3)");
        TreeSet<Long> gdansk = ids(conn, "SELECT id FROM crm.client WHERE unit_id = 4");
        long nonexistent = ids(conn, "SELECT max(id) FROM crm.client").last() + 1000;
        System.out.println("as the administrator: clients " + krakow + " in Kraków, " + gdansk + " in Gdańsk");
        try (Connection sup = DriverManager.getConnection(url, login(supervisor, "CRM_JDBC_SUP_PASSWORD"))) {
            try (PreparedStatement ps = sup.prepareStatement(
                    "SELECT current_user, pg_has_role('crm_supervisor', 'MEMBER'), pg_has_role('crm_admin', 'MEMBER'), "
                    + "(SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                System.out.println("role: " + rs.getString(1) + " (crm_supervisor: " + rs.getBoolean(2)
                        + ", crm_admin: " + rs.getBoolean(3) + ", superuser or BYPASSRLS: " + rs.getBoolean(4) + ")");
                expect(rs.getBoolean(2) && !rs.getBoolean(3) && !rs.getBoolean(4),
                        "the supervisor must be a crm_supervisor only");
            }

            check("supervisor: merge_client(?, ?) on another unit's client is 42501 with DETAIL and HINT", () -> {
                expect(krakow.size() == 2 && gdansk.size() == 1, "the set-up's clients: " + krakow + ", " + gdansk);
                long other = gdansk.first();
                PSQLException e = mergeRefusal(sup, other, krakow.first());
                ServerErrorMessage m = e.getServerErrorMessage();
                expect(m != null, "no server error message");
                expectEquals("42501", e.getSQLState(), "SQLSTATE");
                expectEquals("permission denied to merge client " + other, m.getMessage(), "message");
                expectEquals("Role \"" + supervisor + "\" reaches only the clients of its units and the units below them; "
                        + "this client does not exist or lies outside them.", m.getDetail(), "DETAIL");
                expectEquals("An administrator assigns units with crm.user_unit(role, unit).", m.getHint(), "HINT");
                // and nothing was merged
                expectEquals(gdansk, ids(conn, "SELECT id FROM crm.client WHERE unit_id = 4"), "Gdańsk's clients after the refusal");
            });

            check("supervisor: a nonexistent client is refused in the same words", () -> {
                long other = gdansk.first();
                ServerErrorMessage outOfReach = mergeRefusal(sup, other, krakow.first()).getServerErrorMessage();
                PSQLException e = mergeRefusal(sup, nonexistent, krakow.first());
                ServerErrorMessage missing = e.getServerErrorMessage();
                expectEquals("42501", e.getSQLState(), "SQLSTATE");
                expectEquals(outOfReach.getMessage().replace(Long.toString(other), "<id>"),
                        missing.getMessage().replace(Long.toString(nonexistent), "<id>"), "message apart from the id");
                expectEquals(outOfReach.getDetail(), missing.getDetail(), "DETAIL");
                expectEquals(outOfReach.getHint(), missing.getHint(), "HINT");
                expectEquals(outOfReach.getSQLState(), missing.getSQLState(), "SQLSTATE of the server message");
            });

            check("supervisor: SELECT id FROM crm.client returns its unit's clients only", () -> {
                TreeSet<Long> seen = ids(sup, "SELECT id FROM crm.client");
                expectEquals(krakow, seen, "clients the supervisor reads");
                // another unit's client is not found by its id either
                try (PreparedStatement ps = sup.prepareStatement("SELECT count(*) FROM crm.client WHERE id = ?")) {
                    ps.setLong(1, gdansk.first());
                    expectEquals("0", one(ps), "Gdańsk's client by id");
                }
            });
        }

        conn.close();
        System.out.printf("%nCrmDriverTest: %d passed, %d failed%n", passed, failures.size());
        for (String f : failures)
            System.out.println("  failed: " + f);
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
