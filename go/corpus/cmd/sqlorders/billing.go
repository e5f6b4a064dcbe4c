package main

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// billing turns unbilled orders into invoices every few seconds. Readers of invoices
// take the same lock, so nobody sees a run half done.
type billing struct {
	st     *store
	mu     sync.Mutex
	legacy bool // the first version of the per-order worker
}

type invoice struct {
	Order  int64 `json:"order"`
	Amount int   `json:"amount_cents"`
}

func (b *billing) loop() {
	for range time.Tick(3 * time.Second) {
		b.run(context.Background())
	}
}

func (b *billing) run(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rows, err := b.st.db.QueryContext(ctx, `SELECT o.id, o.customer_id, i.qty, i.price_cents
		FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
		WHERE o.id IN (SELECT id FROM orders WHERE billed = 0 ORDER BY id LIMIT 50)`)
	if err != nil {
		return
	}
	type pending struct {
		cust  int
		lines []item
	}
	todo := map[int64]*pending{}
	for rows.Next() {
		var id int64
		var cust int
		var qty, price sql.NullInt64
		if rows.Scan(&id, &cust, &qty, &price) != nil {
			continue
		}
		p := todo[id]
		if p == nil {
			p = &pending{cust: cust}
			todo[id] = p
		}
		if qty.Valid { // an order whose lines were all refunded has none
			p.lines = append(p.lines, item{Qty: int(qty.Int64), Price: int(price.Int64)})
		}
	}
	rows.Close()
	var wg sync.WaitGroup
	for id, p := range todo {
		wg.Add(1)
		worker := b.invoiceOne
		if b.legacy {
			worker = b.invoiceOneV1
		}
		go worker(ctx, id, p.cust, p.lines, &wg)
	}
	wg.Wait()
}

func (b *billing) invoiceOne(ctx context.Context, id int64, cust int, lines []item, wg *sync.WaitGroup) {
	defer wg.Done()
	b.write(ctx, id, cust, lines)
}

func (b *billing) invoiceOneV1(ctx context.Context, id int64, cust int, lines []item, wg *sync.WaitGroup) {
	if len(lines) == 0 {
		return // FAULT(deadlock:refunded-order)
	}
	b.write(ctx, id, cust, lines)
	wg.Done()
}

func (b *billing) write(ctx context.Context, id int64, cust int, lines []item) {
	amount := 0
	for _, l := range lines {
		amount += l.Qty * l.Price
	}
	tx, err := b.st.wdb.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO invoices VALUES (?, ?, ?)`, id, cust, amount); err != nil {
		return
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET billed = 1 WHERE id = ?`, id); err != nil {
		return
	}
	_ = tx.Commit()
}

func (b *billing) forCustomer(ctx context.Context, cust int) ([]invoice, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rows, err := b.st.db.QueryContext(ctx, `SELECT order_id, amount_cents FROM invoices WHERE customer_id = ? ORDER BY order_id DESC LIMIT 20`, cust)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []invoice
	for rows.Next() {
		var i invoice
		if err := rows.Scan(&i.Order, &i.Amount); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}
