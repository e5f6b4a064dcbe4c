package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

const (
	nCustomers = 2000
	nProducts  = 300
	nOrders    = 20000
)

// openDB creates the service's database in a fresh directory under the temp dir and
// returns it with the directory to remove at exit. Directories left by earlier runs
// whose process is gone are removed first.
func openDB() (*sql.DB, *sql.DB, string, error) {
	sweepStale()
	dir, err := os.MkdirTemp("", "sqlorders-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, nil, "", err
	}
	dsn := "file:" + filepath.Join(dir, "orders.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, dir, err
	}
	// SQLite takes one writer at a time: writes queue on a single connection of their
	// own rather than in the busy handler's sleeps, holding a reader's connection
	wdb, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, nil, dir, err
	}
	wdb.SetMaxOpenConns(1)
	return db, wdb, dir, nil
}

func sweepStale() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "sqlorders-*"))
	for _, d := range old {
		parts := strings.SplitN(filepath.Base(d), "-", 3)
		if len(parts) < 2 {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

var schema = []string{
	`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, tier TEXT NOT NULL)`,
	`CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
		price_cents INTEGER NOT NULL, stock INTEGER NOT NULL)`,
	`CREATE TABLE price_version (v INTEGER NOT NULL)`,
	`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL,
		created_at INTEGER NOT NULL, total_cents INTEGER NOT NULL, billed INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX orders_by_customer ON orders(customer_id, id)`,
	`CREATE INDEX orders_unbilled ON orders(billed, id)`,
	`CREATE TABLE order_items (order_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
		qty INTEGER NOT NULL, price_cents INTEGER NOT NULL)`,
	`CREATE INDEX items_by_order ON order_items(order_id)`,
	`CREATE TABLE invoices (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL)`,
}

// seed fills the database with a shop's history: customers, a catalog, orders with items.
// A few old orders are disputed, and the last few hundred are not billed yet (some of
// those had every item refunded, so they have none).
func seed(db *sql.DB) error {
	for _, q := range schema {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q[:30], err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r := rand.New(rand.NewPCG(7, 11))
	tiers := []string{"basic", "basic", "basic", "plus", "pro"}
	for i := 1; i <= nCustomers; i++ {
		if _, err := tx.Exec(`INSERT INTO customers VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("Customer %d", i),
			fmt.Sprintf("c%d@example.test", i), tiers[r.IntN(len(tiers))]); err != nil {
			return err
		}
	}
	for i := 1; i <= nProducts; i++ {
		if _, err := tx.Exec(`INSERT INTO products VALUES (?, ?, ?, ?, ?)`, i, fmt.Sprintf("SKU-%05d", i),
			fmt.Sprintf("Product %d", i), 199+r.IntN(20000), 50+r.IntN(200)); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`INSERT INTO price_version VALUES (1)`); err != nil {
		return err
	}
	ins, err := tx.Prepare(`INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	item, err := tx.Prepare(`INSERT INTO order_items VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	start := time.Now().Add(-365 * 24 * time.Hour).Unix()
	for id := 1; id <= nOrders; id++ {
		status := "delivered"
		if r.IntN(150) == 0 {
			status = "disputed"
		}
		billed := 1
		if id > nOrders-300 {
			billed = 0
		}
		n := 1 + r.IntN(5)
		if billed == 0 && id%97 == 0 {
			n = 0 // refunded in full
		}
		total := 0
		for k := 0; k < n; k++ {
			price := 199 + r.IntN(20000)
			qty := 1 + r.IntN(3)
			total += price * qty
			if _, err := item.Exec(id, 1+r.IntN(nProducts), qty, price); err != nil {
				return err
			}
		}
		if _, err := ins.Exec(id, 1+r.IntN(nCustomers), status, start+int64(id)*1500, total, billed); err != nil {
			return err
		}
	}
	return tx.Commit()
}
