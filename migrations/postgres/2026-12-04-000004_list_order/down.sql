DROP INDEX assessments_list_order;
