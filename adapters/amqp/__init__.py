"""RabbitMQ I/O: the notification consumer and the dead-letter queue."""

from adapters.amqp.consumer import (
    DEFAULT_EXCHANGES,
    ConsumerStats,
    NotificationConsumer,
    publisher_queues,
)
from adapters.amqp.deadletter import DEAD_LETTER_QUEUE, AmqpDeadLetters
from adapters.amqp.queues import QueueMismatch, QueueOptions

__all__ = ["DEAD_LETTER_QUEUE", "DEFAULT_EXCHANGES", "AmqpDeadLetters", "ConsumerStats",
           "NotificationConsumer", "QueueMismatch", "QueueOptions", "publisher_queues"]
