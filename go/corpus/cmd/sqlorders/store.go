package main

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

var (
	errUnderReview = errors.New("account under review")
	errNoStock     = errors.New("insufficient stock")
)

type item struct {
	Product int    `json:"product"`
	Name    string `json:"name,omitempty"`
	Qty     int    `json:"qty"`
	Price   int    `json:"price_cents"`
	Sold    int    `json:"sold,omitempty"`
	Now     int    `json:"price_now_cents,omitempty"`
}

type order struct {
	ID       int64  `json:"id"`
	Customer int    `json:"customer"`
	Status   string `json:"status"`
	Created  int64  `json:"created_at"`
	Total    int    `json:"total_cents"`
	Items    []item `json:"items"`
}

type product struct {
	ID    int    `json:"id"`
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Price int    `json:"price_cents"`
	Stock int    `json:"stock"`
}

type store struct {
	db  *sql.DB // readers
	wdb *sql.DB // the one writer
}

// recentOrders is a customer's latest orders with their items, in two queries.
func (s *store) recentOrders(ctx context.Context, customer, limit int) ([]order, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, customer_id, status, created_at, total_cents
		FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, customer, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []order
	byID := map[int64]int{}
	for rows.Next() {
		var o order
		if err := rows.Scan(&o.ID, &o.Customer, &o.Status, &o.Created, &o.Total); err != nil {
			return nil, err
		}
		if o.Status == "disputed" {
			return nil, errUnderReview
		}
		byID[o.ID] = len(out)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	items, err := s.db.QueryContext(ctx, `SELECT i.order_id, i.product_id, p.name, i.qty, i.price_cents
		FROM order_items i JOIN products p ON p.id = i.product_id
		WHERE i.order_id IN (SELECT id FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT ?)`, customer, limit)
	if err != nil {
		return nil, err
	}
	defer items.Close()
	for items.Next() {
		var oid int64
		var it item
		if err := items.Scan(&oid, &it.Product, &it.Name, &it.Qty, &it.Price); err != nil {
			return nil, err
		}
		if k, ok := byID[oid]; ok {
			out[k].Items = append(out[k].Items, it)
		}
	}
	return out, items.Err()
}

// recentOrdersPaged is the listing the mobile app's endpoint grew: it walks the orders
// cursor itself and fills each order's lines as it goes.
func (s *store) recentOrdersPaged(ctx context.Context, customer, limit int) ([]order, error) {
	rows, err := s.db.Query(`SELECT id, customer_id, status, created_at, total_cents
		FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, customer, limit)
	if err != nil {
		return nil, err
	}
	var out []order
	for rows.Next() {
		var o order
		if err := rows.Scan(&o.ID, &o.Customer, &o.Status, &o.Created, &o.Total); err != nil {
			rows.Close()
			return nil, err
		}
		if o.Status == "disputed" {
			return nil, errUnderReview // FAULT(connection-leak:disputed-cursor)
		}
		out = append(out, o)
	}
	rows.Close()
	for k := range out {
		if out[k].Items, err = s.lines(ctx, out[k].ID, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lines is one order's items; withSales adds how many of each product were ever sold.
func (s *store) lines(ctx context.Context, orderID int64, withSales bool) ([]item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT product_id, qty, price_cents FROM order_items WHERE order_id = ?`, orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.Product, &it.Qty, &it.Price); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for k := range out {
		if err := s.db.QueryRowContext(ctx, `SELECT name FROM products WHERE id = ?`, out[k].Product).Scan(&out[k].Name); err != nil {
			return nil, err
		}
		if withSales {
			err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(qty), 0) FROM order_items WHERE product_id = ?`, // FAULT(cpu-saturation:sales-per-line)
				out[k].Product).Scan(&out[k].Sold)
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// recentOrdersWithSales is the listing with a "popular" badge per line: the lines and
// each product's total sales, order by order.
func (s *store) recentOrdersWithSales(ctx context.Context, customer, limit int) ([]order, error) {
	orders, err := s.recentOrders(ctx, customer, limit)
	if err != nil {
		return nil, err
	}
	for k := range orders {
		if orders[k].Items, err = s.lines(ctx, orders[k].ID, true); err != nil {
			return nil, err
		}
	}
	return orders, nil
}

func (s *store) order(ctx context.Context, id int64) (order, error) {
	var o order
	err := s.db.QueryRowContext(ctx, `SELECT id, customer_id, status, created_at, total_cents FROM orders WHERE id = ?`, id).
		Scan(&o.ID, &o.Customer, &o.Status, &o.Created, &o.Total)
	if err != nil {
		return o, err
	}
	o.Items, err = s.lines(ctx, id, false)
	return o, err
}

// place writes an order in one transaction: stock is checked and taken line by line.
func (s *store) place(ctx context.Context, customer int, want []item, prices *priceBook) (int64, error) {
	for k := range want {
		want[k].Price = prices.price(ctx, want[k].Product)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	total := 0
	for _, it := range want {
		res, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?`, it.Qty, it.Product, it.Qty)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return 0, errNoStock
		}
		total += it.Price * it.Qty
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO orders (customer_id, status, created_at, total_cents) VALUES (?, 'placed', ?, ?)`,
		customer, time.Now().Unix(), total)
	if err != nil {
		return 0, err
	}
	id, _ := res.LastInsertId()
	for _, it := range want {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_items VALUES (?, ?, ?, ?)`, id, it.Product, it.Qty, it.Price); err != nil {
			return 0, err
		}
	}
	return id, tx.Commit()
}

// restock tops up low products and bumps the price version (prices move with stock).
func (s *store) restock(ctx context.Context) error {
	if _, err := s.wdb.ExecContext(ctx, `UPDATE products SET stock = stock + 6,
		price_cents = price_cents + (abs(random()) % 21) - 10 WHERE stock < 30`); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `UPDATE price_version SET v = v + 1`)
	return err
}

// priceBook is the catalog's prices in memory, reloaded when price_version moves.
type priceBook struct {
	db       *sql.DB
	mu       sync.RWMutex
	version  int64
	products []product
	byID     map[int]int
	// checkEachRead makes every read confirm the version with the database
	checkEachRead bool
}

// reload reads the catalog again if the price version moved; the caller holds b.mu.
func (b *priceBook) reload(ctx context.Context) error {
	var v int64
	if err := b.db.QueryRowContext(ctx, `SELECT v FROM price_version`).Scan(&v); err != nil {
		return err
	}
	if v == b.version {
		return nil
	}
	ps, byID, err := b.read(ctx)
	if err == nil {
		b.products, b.byID, b.version = ps, byID, v
	}
	return err
}

func (b *priceBook) read(ctx context.Context) ([]product, map[int]int, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT id, sku, name, price_cents, stock FROM products ORDER BY id`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ps []product
	byID := map[int]int{}
	for rows.Next() {
		var p product
		if err := rows.Scan(&p.ID, &p.SKU, &p.Name, &p.Price, &p.Stock); err != nil {
			return nil, nil, err
		}
		byID[p.ID] = len(ps)
		ps = append(ps, p)
	}
	return ps, byID, rows.Err()
}

// keepFresh reads the book again every second in the background and swaps it in.
func (b *priceBook) keepFresh() {
	for range time.Tick(time.Second) {
		var v int64
		if err := b.db.QueryRow(`SELECT v FROM price_version`).Scan(&v); err != nil {
			continue
		}
		b.mu.RLock()
		same := v == b.version
		b.mu.RUnlock()
		if same {
			continue
		}
		if ps, byID, err := b.read(context.Background()); err == nil {
			b.mu.Lock()
			b.products, b.byID, b.version = ps, byID, v
			b.mu.Unlock()
		}
	}
}

func (b *priceBook) price(ctx context.Context, id int) int {
	if b.checkEachRead {
		// the book may be a second old: confirm the price with the database
		b.mu.Lock()
		defer b.mu.Unlock()
		p := b.products[b.byID[id]].Price
		_ = b.db.QueryRowContext(ctx, `SELECT price_cents FROM products WHERE id = ?`, id).Scan(&p) // FAULT(lock-contention:price-check)
		return p
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.products[b.byID[id]].Price
}

func (b *priceBook) catalog() []product {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.products
}
