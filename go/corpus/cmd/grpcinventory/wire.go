package main

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// The service is described by hand rather than generated from a .proto: the messages are
// plain structs carried as JSON under the "json" content-subtype.

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

type Item struct {
	SKU      string            `json:"sku"`
	Name     string            `json:"name"`
	Qty      int               `json:"qty"`
	Cents    int64             `json:"cents"`
	Rev      uint64            `json:"rev"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Label    string            `json:"label,omitempty"`
	Location string            `json:"location,omitempty"`
}

type LookupRequest struct {
	SKU string `json:"sku"`
}

type ReserveRequest struct {
	OrderID string `json:"order_id"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
}

type ReserveReply struct {
	Granted bool `json:"granted"`
	Left    int  `json:"left"`
}

type AuditRecord struct {
	OrderID string `json:"order_id"`
	SKU     string `json:"sku"`
	Delta   int    `json:"delta"`
}

type AuditAck struct {
	Seq uint64 `json:"seq"`
}

type ListRequest struct {
	Pattern string `json:"pattern"`
	Limit   int    `json:"limit"`
}

type WatchRequest struct {
	SKU string `json:"sku"`
	Max int    `json:"max"` // stop after this many changes (0: until cancelled)
}

type StockChange struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
	Rev uint64 `json:"rev"`
}

// InventoryServer is what the service descriptor dispatches to.
type InventoryServer interface {
	Lookup(context.Context, *LookupRequest) (*Item, error)
	Reserve(context.Context, *ReserveRequest) (*ReserveReply, error)
	Audit(context.Context, *AuditRecord) (*AuditAck, error)
	List(*ListRequest, grpc.ServerStream) error
	Watch(*WatchRequest, grpc.ServerStream) error
}

const serviceName = "stock.v1.Inventory"

func unary[Req any, Resp any](name string, call func(InventoryServer, context.Context, *Req) (*Resp, error)) grpc.MethodDesc {
	full := "/" + serviceName + "/" + name
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := new(Req)
			if err := dec(req); err != nil {
				return nil, err
			}
			if icpt == nil {
				return call(srv.(InventoryServer), ctx, req)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: full}
			return icpt(ctx, req, info, func(ctx context.Context, r any) (any, error) {
				return call(srv.(InventoryServer), ctx, r.(*Req))
			})
		},
	}
}

func serverStream[Req any](name string, call func(InventoryServer, *Req, grpc.ServerStream) error) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    name,
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			req := new(Req)
			if err := stream.RecvMsg(req); err != nil {
				return err
			}
			return call(srv.(InventoryServer), req, stream)
		},
	}
}

var inventoryDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*InventoryServer)(nil),
	Methods: []grpc.MethodDesc{
		unary("Lookup", InventoryServer.Lookup),
		unary("Reserve", InventoryServer.Reserve),
		unary("Audit", InventoryServer.Audit),
	},
	Streams: []grpc.StreamDesc{
		serverStream("List", InventoryServer.List),
		serverStream("Watch", InventoryServer.Watch),
	},
}

var (
	listStream  = grpc.StreamDesc{StreamName: "List", ServerStreams: true}
	watchStream = grpc.StreamDesc{StreamName: "Watch", ServerStreams: true}
)

func method(name string) string { return "/" + serviceName + "/" + name }
