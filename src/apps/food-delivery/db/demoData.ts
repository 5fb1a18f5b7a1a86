/**
 * Demo data for the food-delivery domain. Ids are fixed so that tokens,
 * docs and the web demo can name the same users on every machine.
 */
import type { customers, drivers, menuItems, restaurants } from './schema.js';

type Insert<T extends { $inferInsert: unknown }> = T['$inferInsert'];

const id = (group: number, n: number) => `00000000-0000-4000-8000-${String(group).padStart(4, '0')}${String(n).padStart(8, '0')}`;

export const demoCustomers: Insert<typeof customers>[] = [
  { id: id(1, 1), name: 'Alice Martin', email: 'alice@example.com' },
  { id: id(1, 2), name: 'Bob Chen', email: 'bob@example.com' },
  { id: id(1, 3), name: 'Carla Diaz', email: 'carla@example.com' },
];

export const demoRestaurants: Insert<typeof restaurants>[] = [
  { id: id(2, 1), name: 'Pizzeria Napoli', cuisine: 'Italian', address: '12 Harbour St' },
  { id: id(2, 2), name: 'Sakura Sushi', cuisine: 'Japanese', address: '3 Blossom Ave' },
  { id: id(2, 3), name: 'Taqueria El Sol', cuisine: 'Mexican', address: '88 Market Sq' },
];

export const demoMenuItems: Insert<typeof menuItems>[] = [
  { id: id(3, 1), restaurantId: id(2, 1), name: 'Margherita', description: 'Tomato, mozzarella, basil', priceCents: 950 },
  { id: id(3, 2), restaurantId: id(2, 1), name: 'Diavola', description: 'Spicy salami, chili', priceCents: 1150 },
  { id: id(3, 3), restaurantId: id(2, 1), name: 'Tiramisu', description: 'Espresso, mascarpone', priceCents: 650 },
  { id: id(3, 4), restaurantId: id(2, 2), name: 'Salmon Nigiri (6)', description: 'Fresh salmon', priceCents: 1200 },
  { id: id(3, 5), restaurantId: id(2, 2), name: 'Dragon Roll', description: 'Eel, avocado, cucumber', priceCents: 1400 },
  { id: id(3, 6), restaurantId: id(2, 2), name: 'Miso Soup', description: 'Tofu, wakame', priceCents: 400 },
  { id: id(3, 7), restaurantId: id(2, 3), name: 'Tacos al Pastor (3)', description: 'Pork, pineapple', priceCents: 900 },
  { id: id(3, 8), restaurantId: id(2, 3), name: 'Burrito', description: 'Beans, rice, salsa', priceCents: 1000 },
  { id: id(3, 9), restaurantId: id(2, 3), name: 'Churros', description: 'Cinnamon sugar', priceCents: 500, available: false },
];

export const demoDrivers: Insert<typeof drivers>[] = [
  { id: id(4, 1), name: 'Dana Rider' },
  { id: id(4, 2), name: 'Eli Wheels' },
  { id: id(4, 3), name: 'Fay Swift' },
];
