"""RabbitMQ I/O: the notification consumer and the dead-letter queue."""

from adapters.amqp.consumer import ConsumerStats, NotificationConsumer
from adapters.amqp.deadletter import DEAD_LETTER_QUEUE, AmqpDeadLetters

__all__ = ["DEAD_LETTER_QUEUE", "AmqpDeadLetters", "ConsumerStats", "NotificationConsumer"]
