package wactor

import (
	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// Publish publishes payload (CBOR; nil for none) to topic when the turn
// commits: every actor subscribed to the topic then gets it once, as a
// tell to the method it subscribed with, sent by this actor. A failed
// turn publishes nothing. Topics are 1 to abi.MaxTopicLen bytes of
// UTF-8, segments separated by dots, without spaces, '*' or '>'.
func (c *Context) Publish(topic string, payload []byte) error {
	arg := abi.Publish{Topic: topic, Payload: payload}
	_, _, err := c.call(hostlink.Publish, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}

// Subscribe subscribes the actor to topic when the turn commits: each
// message published to it from then on is delivered to method, once. A
// subscription is durable and lasts until Unsubscribe; subscribing again
// changes the method. An actor may subscribe to at most
// abi.MaxSubscriptions topics.
func (c *Context) Subscribe(topic, method string) error {
	arg := abi.Subscription{Topic: topic, Method: method}
	_, _, err := c.call(hostlink.Subscribe, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}

// Unsubscribe ends the actor's subscription to topic when the turn
// commits; one that does not exist is not an error.
func (c *Context) Unsubscribe(topic string) error {
	arg := abi.Subscription{Topic: topic}
	_, _, err := c.call(hostlink.Unsubscribe, keepArg(arg.AppendTo(argBuf[:0])))
	return err
}
